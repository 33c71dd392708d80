"""Certificates: signing keys, issuing provisional certificates, importing official ones,
revocation. Service functions only; no views here."""
