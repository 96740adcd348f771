#!/usr/bin/env python3
"""Writes demo/docs/product-care.pdf: a two-page text PDF for the demo knowledge base.

Standard library only. The file is built by hand (catalog, page tree, Helvetica fonts, one content
stream per page, an xref table with exact byte offsets) and is byte-for-byte reproducible.

    python3 demo/make-sample-pdf.py [OUTPUT]    # default: demo/docs/product-care.pdf
"""

import pathlib
import sys
import textwrap

TITLE = "Acme Outdoor product care guide"

# Each page: a list of (kind, text); kind is "title", "heading" or "body" (body text is wrapped).
PAGES = [
    [
        ("title", TITLE),
        ("body", "Good care makes outdoor gear last for years. This guide explains how to clean, dry, "
                 "store and waterproof the tents, sleeping bags, jackets and boots sold by Acme Outdoor."),
        ("heading", "Tents"),
        ("body", "Always pitch a new tent once at home before your first trip, so you know every pole and "
                 "guy line. Never pack a tent away wet: if you break camp in the rain, set it up again within "
                 "24 hours at home and let it dry completely, or mildew will stain the fabric and damage the "
                 "waterproof coating."),
        ("body", "Clean the fly sheet with a soft sponge and lukewarm water only. Do not use detergent, a "
                 "washing machine or a pressure washer. Store the tent loosely rolled in a cool, dry place, "
                 "out of direct sunlight; ultraviolet light weakens nylon over time."),
        ("heading", "Sleeping bags"),
        ("body", "Air your sleeping bag every morning on a trip. At home, store it uncompressed in the large "
                 "cotton storage sack that comes with it, never in its small compression sack."),
        ("body", "Wash a down sleeping bag at most twice a year, in a front-loading machine at 30 degrees "
                 "Celsius with a down wash. Tumble dry on low heat with three clean tennis balls for about "
                 "three hours, until no clumps of down remain. Synthetic bags can be washed the same way "
                 "with a mild detergent."),
    ],
    [
        ("heading", "Waterproof jackets"),
        ("body", "Wash a waterproof jacket when it gets dirty or when water stops beading on the surface. "
                 "Close all zips, use a technical wash at 30 degrees Celsius and rinse twice. Never use fabric "
                 "softener: it clogs the membrane and stops it from breathing."),
        ("body", "Restore the water-repellent finish by tumble drying on low heat for 20 minutes. When that "
                 "no longer helps, apply a spray-on reproofer to the outer fabric, about once a season."),
        ("heading", "Hiking boots"),
        ("body", "After each hike, remove the insoles and laces, brush off mud with a soft brush and rinse "
                 "the boots with cold water. Dry them at room temperature with newspaper inside; never on a "
                 "radiator or next to a campfire, which cracks leather and melts the glue of the sole."),
        ("body", "Treat leather boots with a wax every two to three months of regular use. Fabric boots "
                 "need a spray-on proofer instead. Resole a good pair of boots before the tread is completely "
                 "worn: our partner cobbler resoles Acme Trail boots for 59 EUR."),
        ("heading", "Repairs"),
        ("body", "Small tears in a tent or jacket can be fixed with the self-adhesive repair patches in the "
                 "Acme repair kit (12.95 EUR). For larger repairs, send the product to our repair workshop; "
                 "we send a quote within 5 business days and most repairs are done within two weeks."),
    ],
]

STYLES = {"title": ("F2", 18, 30), "heading": ("F2", 13, 24), "body": ("F1", 11, 15)}
PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 595, 842, 72   # A4 in points
WRAP = 88                                         # characters per body line at 11 pt Helvetica


def escape(text):
    """A PDF literal string's content: ASCII only, with backslash and parentheses escaped."""
    text.encode("ascii")  # fails loudly on characters the built-in encoding cannot show
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def content_stream(page):
    """The page's drawing operators: one text object, each line placed from the top margin down."""
    ops = ["BT"]
    y = PAGE_HEIGHT - MARGIN
    for kind, text in page:
        font, size, leading = STYLES[kind]
        lines = textwrap.wrap(text, WRAP) if kind == "body" else [text]
        if kind == "heading":
            y -= 8  # extra space above a heading
        for line in lines:
            ops.append(f"/{font} {size} Tf")
            ops.append(f"1 0 0 1 {MARGIN} {y} Tm")
            ops.append(f"({escape(line)}) Tj")
            y -= leading
        y -= 6  # paragraph spacing
        if y < MARGIN:
            raise SystemExit(f"page overflows the bottom margin at: {text[:40]!r}")
    ops.append("ET")
    return "\n".join(ops).encode("ascii") + b"\n"


def build():
    # Object numbers: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, 5 info,
    # then for each page its page object and its content stream.
    objects = {}
    page_ids = []
    for index, page in enumerate(PAGES):
        page_id, content_id = 6 + 2 * index, 7 + 2 * index
        page_ids.append(page_id)
        stream = content_stream(page)
        objects[content_id] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode("ascii")
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids)
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode("ascii")
    for number, name in ((3, "Helvetica"), (4, "Helvetica-Bold")):
        objects[number] = (
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>"
        ).encode("ascii")
    objects[5] = f"<< /Title ({escape(TITLE)}) /Author (Acme Outdoor) /Producer (make-sample-pdf.py) >>".encode("ascii")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # a binary comment marks the file as binary
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"  # each entry is exactly 20 bytes
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)
    return bytes(out)


def main():
    default = pathlib.Path(__file__).resolve().parent / "docs" / "product-care.pdf"
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else default
    target.parent.mkdir(parents=True, exist_ok=True)
    data = build()
    target.write_bytes(data)
    print(f"wrote {target} ({len(data)} bytes, {len(PAGES)} pages)", file=sys.stderr)


if __name__ == "__main__":
    main()
