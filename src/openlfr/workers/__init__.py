"""Camera workers: pipelines in their own processes, fed by the hub, alerts spooled until stored."""
