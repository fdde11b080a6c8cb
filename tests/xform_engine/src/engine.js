// The page's engine: ODK's XForm transformer (run on Chromium's own XSLT) and enketo-core's Form.
import { Form } from 'enketo-core';
import fileManager from 'enketo-core/src/js/file-manager';
import { transform } from 'enketo-transformer/web';

window.xformEngine = { Form, transform, fileManager };
