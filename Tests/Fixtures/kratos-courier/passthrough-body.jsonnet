function(ctx) ctx
