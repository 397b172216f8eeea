"""The SDK metadata AWS's service integrations add to a response (AWS's Java SDK's shapes)."""
from __future__ import annotations


def response_metadata(headers: dict[str, str], request_id: str) -> dict:
    """``SdkHttpMetadata`` (every header also as a one-element list) and ``SdkResponseMetadata``."""
    return {"SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()},
                                "HttpHeaders": headers, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id}}
