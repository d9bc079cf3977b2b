"""onewindow's workflow runtime: persistence, running BPMN on SpiffWorkflow, queues.

Nothing in this package knows about Flask or HTTP; callers own sessions and
transactions (see ``engine.db``) and call the command functions of each module.
"""
