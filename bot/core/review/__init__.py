"""Learning that sticks: spaced review of what each learner got wrong (FSRS), a path through the course,
streaks in the learner's time zone, reminders and weekly recaps.  No I/O of its own beyond the storage
protocol; no discord.

- `cards`: a question's content hash, the quiz answer -> FSRS rating mapping, scheduling through `fsrs`
- `path`: done / in progress / next recommended lesson (and why) on the prerequisite graph
- `streaks`: local days and streaks (zoneinfo)
- `service`: `Learning`, what the front-ends call
"""
