"""Trips: what the employer plans (input, create, update, cancel), the coverage engine's answer on
a trip and what follows from it, the trip's one coverage status with its next step, and the
dashboard with its CSV.

Modules, lowest first (no module imports one above it):
- `records`: what a trip has (its stored answer, certificates, requests) — reads only;
- `input`: the trip form's and the CLI's input, checked;
- `assessment`: the engine's case from a trip, and the engine's answer kept on the trip;
- `follow_up`: what the answer sets in motion (a provisional statement, a request to file);
- `services`: create, update, cancel, list;
- `status`: the coverage status and next step, for one trip or many;
- `dashboard`: the coverage dashboard's rows and the CSV export.
Certificate requests have their own module, web/filing/certificate_requests.py, between
`assessment` and `follow_up`.
"""
