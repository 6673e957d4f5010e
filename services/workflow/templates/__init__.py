"""Ticket templates as pure domain code: fields and their values, the condition language, the node
graph, publish-time validation, versioned catalogues and the execution engine. No I/O here."""

from services.workflow.templates.catalogue import Catalogue
from services.workflow.templates.engine import act, allowed_actions, start, visible_values
from services.workflow.templates.expressions import Expression, ParseError, parse
from services.workflow.templates.fields import Field
from services.workflow.templates.model import FieldRules, HandlerRule, Node, Template, Transition, copy_template
from services.workflow.templates.presets import PRESETS, preset
from services.workflow.templates.progress import Happening, Progress, Step
from services.workflow.templates.validation import problems, validate
from services.workflow.templates.forms import validate_values
from services.workflow.templates.values import Location

__all__ = ["Catalogue", "Expression", "Field", "FieldRules", "HandlerRule", "Happening", "Location", "Node", "PRESETS",
           "ParseError", "Progress", "Step", "Template", "Transition", "act", "allowed_actions", "copy_template",
           "parse", "preset", "problems", "start", "validate", "validate_values", "visible_values"]
