"""What a province does, without HTTP or a command line.

API clients, the province's keys and signing key ring, governance, issuer
administration, chain operations handed to the writer, audited actions and
the access-event path.
"""
