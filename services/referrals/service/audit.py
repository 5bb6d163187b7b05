"""Use case of the audit log: the data protection officer's search (`GET /v1/audit`)."""

from __future__ import annotations

from services.referrals import audit
from services.referrals.audit import AuditFound, AuditQuery, Read, Reader
from shared.runtime import Runtime


class AuditLog:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def search(self, principal: Reader, query: AuditQuery) -> AuditFound:
        found = self.runtime.read(lambda session: audit.search(session, query))
        # A page of the log names citizens: reading it is a read about each of them too.
        audit.record_apart(self.runtime, principal, [Read(entry.citizen_ref, "list") for entry in found.entries])
        return found
