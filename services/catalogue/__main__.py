from shared.serve import serve

serve("catalogue")
