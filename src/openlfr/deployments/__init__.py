"""Deployments: plan, authorise, run live, close; cameras and periods of use."""
