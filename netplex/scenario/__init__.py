"""netplex.scenario"""
