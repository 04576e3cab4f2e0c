from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

# ruleid: gate.python.django-weak-password-hasher
PASSWORD_HASHERS = ["django.contrib.auth.hashers.SHA1PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]

# ok: gate.python.django-weak-password-hasher
PASSWORD_HASHERS = ("django.contrib.auth.hashers.Argon2PasswordHasher", "django.contrib.auth.hashers.MD5PasswordHasher")

# ruleid: gate.python.django-pickle-session-serializer
SESSION_SERIALIZER = "django.contrib.sessions.serializers.PickleSerializer"

# ok: gate.python.django-pickle-session-serializer
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"

# ruleid: gate.python.django-cookie-protection-off
SESSION_COOKIE_HTTPONLY = False

# ruleid: gate.python.django-cookie-protection-off
CSRF_COOKIE_SECURE = False

# ok: gate.python.django-cookie-protection-off
SESSION_COOKIE_SECURE = True


# ruleid: gate.python.django-csrf-exempt
@csrf_exempt
def transfer(request):
    return HttpResponse("done")


# ok: gate.python.django-csrf-exempt
@csrf_protect
def profile(request):
    return HttpResponse("ok")


# ruleid: gate.python.django-csrf-exempt
hook = csrf_exempt(profile)
