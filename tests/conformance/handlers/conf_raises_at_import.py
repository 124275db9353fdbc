print("about to fail")
undefined_name_at_import
