"""A durable job queue in the database, and the worker that runs it."""

from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler

__all__ = ["JobContext", "PermanentJobError", "enqueue", "job_handler"]
