"""After the booking: technician ETA, job notes, callbacks, emergency triage, customer history, the
job-events watcher and the post-job follow-up."""
