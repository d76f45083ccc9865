"""The shop's date formats per language (FORMAT_MODULE_PATH): Django's own, with the
few the shop's pages need written the way each language writes them."""
