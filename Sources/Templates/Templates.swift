// Placeholder until issue 4 lands the template catalog.
