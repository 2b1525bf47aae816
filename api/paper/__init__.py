"""The printed certificate as a one-page A4 PDF (docs/paper-certificate.md).

``render.render_certificate`` draws a printed credential (the print disclosures
only, ``credentials.paper.printing``) with its TB1 QR code; both the issuer's
route ``GET /credentials/{digest}/certificate.pdf`` and ``tongban wallet print``
call it. It imports only ``credentials`` and ``ledger``.
"""
