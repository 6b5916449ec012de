"""The Severa agent: installed beside an accounting system that runs only at the customer's
site (Visma Global), it fetches its settings and jobs from the service over outbound HTTPS,
runs the jobs against the system through one adapter interface
(agent/vismaglobal/interface.py) and posts the results. Only its key is kept locally."""

__version__ = "1.0.0"
