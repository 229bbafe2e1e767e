"""The visitor's side of the headless API: identity (visitor tokens), the client-reported request
context, visitor data, events and the staff segment listing."""
