from django.db.models.expressions import RawSQL
from sqlalchemy import literal_column, text


def search(session, model, term, column, year):
    # ruleid: gate.python.sql-fragment-injection
    rows = session.query(model).filter(text("name = '%s' or alias = '%s'" % (term, term)))
    # ruleid: gate.python.sql-fragment-injection
    ordered = rows.order_by(literal_column(f"{column} desc"))
    # ruleid: gate.python.sql-fragment-injection
    annotated = model.objects.annotate(late=RawSQL("year > " + year, ()))
    return ordered, annotated


def safe(session, model, term):
    # ok: gate.python.sql-fragment-injection
    rows = session.query(model).filter(text("name = :term").bindparams(term=term))
    # ok: gate.python.sql-fragment-injection
    fixed = text("name = 'x'")
    # Has SQL keywords: gate.python.sql-injection reports it, not this rule.
    # ok: gate.python.sql-fragment-injection
    whole = text("select * from users where name = '%s'" % term)
    return rows, fixed, whole
