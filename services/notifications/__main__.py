from shared.serve import serve

serve("notifications")
