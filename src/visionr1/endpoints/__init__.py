"""OpenAI-compatible endpoints for batch jobs: a retrying, bounded async client and a durable response store.

Shared by the bridge (cold-start data) and the eval harness's endpoint backend.
"""

from visionr1.endpoints.client import ChatClient, ChatResult, EndpointError, image_data_url, user_message
from visionr1.endpoints.preflight import EndpointsFailing, EndpointUnavailable, check_endpoints
from visionr1.endpoints.store import ResponseStore, StoredCall

__all__ = [
    "ChatClient",
    "ChatResult",
    "EndpointError",
    "EndpointUnavailable",
    "EndpointsFailing",
    "ResponseStore",
    "StoredCall",
    "check_endpoints",
    "image_data_url",
    "user_message",
]
