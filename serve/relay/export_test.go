package relay

// What the external tests need of the package's insides.

var NewResourceManager = newResourceManager

const UserAgent = userAgent
