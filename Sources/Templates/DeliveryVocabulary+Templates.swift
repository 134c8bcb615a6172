// The recovery method and Kratos's courier template types are the delivery's vocabulary
// (`DeliveryVocabulary`, shared with the store and mail); every user of `Templates` sees them as before.
@_exported import DeliveryVocabulary
