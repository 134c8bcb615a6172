// The addresses, Message-IDs and their errors are the delivery's vocabulary (`DeliveryVocabulary`,
// shared with the store and the templates); every user of `Mail` sees them as before.
@_exported import DeliveryVocabulary
