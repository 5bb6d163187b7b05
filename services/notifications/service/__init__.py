"""The use cases of the notifications service, one module per job: `decide` (the rules on
events), `timers` (durable timers firing), `notify` (decisions become nudges and deliveries),
`deliver` (the worker), `people` (inbox and preferences), `webhooks` (and the nudge overview).
`core.Notifications` is the service object they share; `batch.Batch` what a bulk run works on.
"""

from services.notifications.service.core import Notifications

__all__ = ["Notifications"]
