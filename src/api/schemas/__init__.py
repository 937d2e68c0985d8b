"""What goes out over HTTP, by purpose: an order's state, read models' rows, errors.

What comes in is declared once, in orders.commands: the commands are the request bodies.
"""
