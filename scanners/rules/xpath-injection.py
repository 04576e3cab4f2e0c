import lxml.etree


def find_account(document, login, field):
    tree = lxml.etree.fromstring(document)
    # ruleid: gate.python.xpath-injection
    users = tree.xpath("//account[login/text()='%s']" % login)
    # ruleid: gate.python.xpath-injection
    names = tree.xpath(f"//account[@id='{login}']/name")
    # ruleid: gate.python.xpath-injection
    first = tree.find(".//account[login='" + login + "']")
    # ruleid: gate.python.xpath-injection
    compiled = lxml.etree.XPath("//account/{}".format(field))
    return users, names, first, compiled


def safe(document, login, text):
    tree = lxml.etree.fromstring(document)
    # ok: gate.python.xpath-injection
    users = tree.xpath("//account[login/text()=$login]", login=login)
    # ok: gate.python.xpath-injection
    all_users = tree.xpath("//account")
    # str.find of a built string is not XPath.
    # ok: gate.python.xpath-injection
    where = text.find("%s-%s" % (login, login))
    return users, all_users, where
