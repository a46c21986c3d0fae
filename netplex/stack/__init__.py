"""netplex.stack"""
