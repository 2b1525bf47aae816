"""Electronic certificates (电子证照) as W3C Verifiable Credentials signed with SM2."""
