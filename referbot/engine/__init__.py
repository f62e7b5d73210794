"""The channel-neutral conversation engine: flows as data, a pure state machine over them."""

from referbot.engine.flow import Flow, FlowError, Step, StepType, load_flow
from referbot.engine.machine import CrisisMessage, Engine, RiskCheck, Turn
from referbot.engine.state import ConversationState

__all__ = ["ConversationState", "CrisisMessage", "Engine", "RiskCheck", "Flow", "FlowError", "Step", "StepType", "Turn",
           "load_flow"]
