// The flat document of Kratos's shipped default courier body, written for these tests from the
// fields Kratos documents for it (recipient, template_type, to, recovery_code, recovery_url,
// verification_url, verification_code, subject, body): a key that the template type does not
// have is null.
function(ctx)
  local data = std.get(ctx, 'template_data', {});
  {
    recipient: ctx.recipient,
    template_type: ctx.template_type,
    subject: ctx.subject,
    body: ctx.body,
  } + {
    [key]: std.get(data, key, null)
    for key in ['to', 'recovery_code', 'recovery_url', 'verification_url', 'verification_code']
  }
