// A delivery's recipient, Message-ID, method and template type are the delivery's vocabulary
// (`DeliveryVocabulary`, shared with mail and the templates); every user of `Store` reads them.
@_exported import DeliveryVocabulary
