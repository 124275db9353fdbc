import not_installed_inside_a_package


def handler(event, context):
    return "unreachable"
