"""The printed certificate: the TB1 QR codec and what a printed credential discloses.

Pure (no I/O): ``codec`` turns a credential into the text of one QR code and
back; ``printing`` chooses the print disclosures and derives the printed
credential. The PDF is drawn in ``api/paper``.
"""
