"""taskkit 0.2's ``taskkit.task``: the task, its handler and DiscardTask, from taskkit_core."""

from taskkit_core import DEFAULT_TASK_TTL, DiscardTask, Task, TaskHandler

__all__ = ["DEFAULT_TASK_TTL", "DiscardTask", "Task", "TaskHandler"]
