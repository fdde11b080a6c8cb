// enketo-core's configuration for the tests: map tiles come from the test server, never from the internet.
export default {
    experimentalOptimizations: { computeAsync: false },
    excludeNonRelevant: false,
    maps: [{ tiles: ['/tiles/{z}/{x}/{y}.png'], name: 'local', attribution: 'none' }],
    googleApiKey: '',
    repeatOrdinals: false,
    validateContinuously: false,
    validatePage: true,
    swipePage: false,
    textMaxChars: 2000,
};
