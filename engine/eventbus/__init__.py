"""The EventBridge-compatible event bus: pattern matching, rules, targets and broker sources."""
