import lambdarig_no_such_module_xyz


def handler(event, context):
    return 1
