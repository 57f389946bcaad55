"""The HTTP gateway: AWS wire protocols in, calls on the domain services out."""
