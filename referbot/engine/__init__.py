"""The channel-neutral conversation engine: flows as data, a pure state machine over them."""

from referbot.engine.flow import Flow, FlowError, Step, StepType, load_flow
from referbot.engine.machine import CrisisCheck, Engine, Turn
from referbot.engine.state import ConversationState

__all__ = ["ConversationState", "CrisisCheck", "Engine", "Flow", "FlowError", "Step", "StepType", "Turn",
           "load_flow"]
