// Placeholder until issue 4 lands the Kratos admin client.
