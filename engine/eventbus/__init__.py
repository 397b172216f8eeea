"""The EventBridge-compatible event bus: event patterns, rules, targets and delivery."""
