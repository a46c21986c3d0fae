"""netplex.shell"""
