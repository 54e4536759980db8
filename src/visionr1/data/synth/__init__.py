"""Synthetic, verifiable multimodal math items: PIL-drawn images, exact answers, step-by-step solutions.

Six task families (see :data:`TASKS`), each with three difficulty levels, mixing free-form
integer/float answers with four-way multiple choice. Every record's metadata carries the structured
ground truth (``facts``), a caption complete enough to answer from (``description``) and a
programmatic ``solution``, which later stages use as an offline teacher.
"""

from visionr1.data.synth._spec import DIFFICULTIES, Item, TaskSpec
from visionr1.data.synth.generator import TASKS, generate, get_task, synthesize

__all__ = ["DIFFICULTIES", "TASKS", "Item", "TaskSpec", "generate", "get_task", "synthesize"]
