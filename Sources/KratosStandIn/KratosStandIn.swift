// Placeholder until issue 4 lands the stand-in.
