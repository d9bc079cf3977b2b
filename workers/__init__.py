"""Python workers for BPMN service tasks.

Workers talk to the engine only through its Camunda 7 compatible external-task REST API
(fetchAndLock, complete, failure, bpmnError), so any Camunda client works too. The worker runtime and
the reform's workers (materials check, shared-data lookup, receipts, certificates, notifications)
arrive with issue 4.
"""
