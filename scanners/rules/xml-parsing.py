import io
import xml.dom.minidom
import xml.etree.ElementTree as ET
import xml.sax

import defusedxml.ElementTree as DET
from lxml import etree


def read_invoice(upload, text):
    # ruleid: gate.python.xml-lxml-unsafe
    tree = etree.parse(upload)
    # ruleid: gate.python.xml-lxml-unsafe
    root = etree.fromstring(text)
    # ruleid: gate.python.xml-lxml-unsafe
    parser = etree.XMLParser(resolve_entities=True)
    # ruleid: gate.python.xml-stdlib-unsafe
    doc = ET.fromstring(text)
    # ruleid: gate.python.xml-stdlib-unsafe
    dom = xml.dom.minidom.parseString(text)
    # ruleid: gate.python.xml-stdlib-unsafe
    xml.sax.parseString(text, xml.sax.ContentHandler())
    return tree, root, parser, doc, dom


def fine(upload, text):
    # ok: gate.python.xml-lxml-unsafe
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    # ok: gate.python.xml-lxml-unsafe
    tree = etree.parse(upload, parser)
    # ok: gate.python.xml-lxml-unsafe
    root = etree.fromstring(text, parser=parser)
    # ok: gate.python.xml-stdlib-unsafe
    doc = DET.fromstring(text)
    # ok: gate.python.xml-stdlib-unsafe
    element = ET.Element("invoice")
    return tree, root, doc, element


CATALOGUE = """<?xml version="1.0"?><items><item>a</item></items>"""
TEMPLATE = "<items/>"


def constant_documents(upload):
    # ok: gate.python.xml-lxml-unsafe
    items = etree.parse(io.BytesIO(CATALOGUE.encode()))
    # ok: gate.python.xml-lxml-unsafe
    more = etree.fromstring("<items/>")
    # ruleid: gate.python.xml-lxml-unsafe
    theirs = etree.parse(io.BytesIO(upload.encode()))
    return items, more, theirs


def swap_template(upload):
    # A module name rebound anywhere is no longer a constant.
    global TEMPLATE
    TEMPLATE = upload
    # ruleid: gate.python.xml-lxml-unsafe
    return etree.fromstring(TEMPLATE)
