"""Python workers for BPMN service tasks.

Workers talk to the engine only through its Camunda 7 compatible external-task REST API
(fetchAndLock, complete, failure, bpmnError), so any Camunda client works too. ``client`` is that
HTTP client, ``runtime`` runs handlers with retries and back-off. The reform's handlers (materials
check, shared-data lookup, receipts, certificates, notifications) and the ``onewindow worker``
command arrive with the approval paths (issue 4).
"""
