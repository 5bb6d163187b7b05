from shared.serve import serve

serve("referrals")
