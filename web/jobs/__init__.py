"""Periodic jobs: escalation, reminders, renewals and retention, run by a scheduler
(`flask --app app jobs scheduler`), each at most once per period however many schedulers run.

- ``runs.py``: the claim of one period of one job in the ``job_run`` table (the lock);
- ``schedule.py``: which jobs exist, how often they run, and the APScheduler loop;
- ``retention.py``: the retention policy, a daily job;
- ``cli.py``: `flask --app app jobs …` and `flask --app app retention run [--dry-run]`.
"""
